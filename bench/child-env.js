// The environment the benchmarks give the commands they time.
//
// NODE_EXTRA_CA_CERTS makes every Node process parse that bundle of certificates when it starts,
// before any of its own code runs: on the machine these numbers come from it is set to the
// system's whole bundle (≈ 150 certificates), which costs ≈ 70 ms per process, 60 % of what
// `node -e 0` takes there. perfmon opens no TLS connection in a report, so the benchmarks time the
// commands without it (as on a machine that does not set it); --env-as-is keeps it, to see the
// difference.
export function childEnv(args) {
  const env = { ...process.env };
  if (!args.includes('--env-as-is')) delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/** One line saying which environment the timed commands ran in. */
export function envNote(args) {
  if (args.includes('--env-as-is')) return `(commands run with this shell's environment${process.env.NODE_EXTRA_CA_CERTS ? ', NODE_EXTRA_CA_CERTS included' : ''})`;
  return process.env.NODE_EXTRA_CA_CERTS ? '(commands run without NODE_EXTRA_CA_CERTS, set here: it costs every Node process its start-up parse of the certificates; --env-as-is keeps it)' : '';
}
