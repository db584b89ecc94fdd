#!/usr/bin/env node
'use strict';
const { join } = require('node:path');
const { loadBundle } = require('./load-bundle.js');

loadBundle(join(__dirname, '..', 'dist', 'bundle', 'main.cjs')).exports.main();
