#!/usr/bin/env node
import { loadBundle } from './load-bundle.js';

loadBundle(new URL('../dist/bundle/main.cjs', import.meta.url)).exports.main();
