#!/usr/bin/env node
// The `mindroom` bin (package.json): runs the TypeScript CLI through tsx's CommonJS hook.
/* eslint-disable @typescript-eslint/no-require-imports */
"use strict";
require("tsx/cjs");
require("./main.ts");
