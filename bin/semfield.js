#!/usr/bin/env node
// The semfield command (cli/main.ts, compiled to dist/cli).
require('../dist/cli/main.js');
