#!/usr/bin/env node
// Runs one autocannon load from a JSON spec and prints autocannon's result as JSON on stdout.
//
// Why not the autocannon CLI: its `-i FILE` reads the body as UTF-8 text, which mangles the PNG bytes in a
// pre-built multipart body. Here the body file is read as a Buffer and sent byte for byte.
//
// Spec: {"url", "method", "headers": {...}, "bodyFile": path|null, "connections", "duration", "timeout"}
// autocannon is loaded from the directory named by AUTOCANNON_DIR (bench/.tools/node_modules/autocannon).
'use strict'

const fs = require('fs')
const path = require('path')

const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))
const autocannon = require(path.resolve(process.env.AUTOCANNON_DIR))

const options = {
  url: spec.url,
  method: spec.method,
  headers: spec.headers || {},
  connections: spec.connections,
  duration: spec.duration,
  timeout: spec.timeout || 10,
  pipelining: 1
}
if (spec.bodyFile) {
  options.body = fs.readFileSync(spec.bodyFile)
}

autocannon(options, (err, result) => {
  if (err) {
    process.stderr.write(String(err && err.stack ? err.stack : err) + '\n')
    process.exit(2)
  }
  process.stdout.write(JSON.stringify(result) + '\n')
})
