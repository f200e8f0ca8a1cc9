#!/usr/bin/env node
// Rewrites the README's table of pipeline steps (between <!-- steps:begin --> and
// <!-- steps:end -->) from the experiment schema (cli/experiment.ts, compiled to dist).
const fs = require('node:fs');
const path = require('node:path');
const { stepsMarkdown } = require('../dist/cli/experiment');

const file = path.join(__dirname, '..', 'README.md');
const text = fs.readFileSync(file, 'utf8');
const re = /(<!-- steps:begin -->\n)[\s\S]*?(<!-- steps:end -->)/;
if (!re.test(text)) throw new Error('README.md has no steps:begin/steps:end markers');
fs.writeFileSync(file, text.replace(re, (_m, a, b) => `${a}\n${stepsMarkdown()}\n${b}`));
