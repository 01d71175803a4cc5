'use strict';
// `prepare` hook (npm pack, npm install --install-links): copies the repository's CMake project and
// core into tidewire-src/, so that a packed copy of this folder builds without the repository.
// In the repository itself, CMakeLists.txt uses ../../ and this copy is not needed.
const fs = require('node:fs');
const path = require('node:path');

const repo = path.join(__dirname, '..', '..', '..');
const into = path.join(__dirname, '..', 'tidewire-src');
if (!fs.existsSync(path.join(repo, 'core', 'include', 'tidewire', 'tidewire.h'))) process.exit(0); // already a packed copy

fs.rmSync(into, { recursive: true, force: true });
for (const entry of ['CMakeLists.txt', 'cmake', 'core', 'tools']) {
  fs.cpSync(path.join(repo, entry), path.join(into, entry), { recursive: true });
}
// llhttp's generated C sources, which the core compiles in: Debian's node-llhttp ships them (the
// core's default paths); a copy travels in the package so that installing it elsewhere needs none.
const llhttp = path.join(into, 'llhttp');
const llhttpDir = process.env.TIDEWIRE_LLHTTP_DIR || '/usr/share/llhttp';
const llhttpInclude = process.env.TIDEWIRE_LLHTTP_INCLUDE_DIR || '/usr/share/include/llhttp';
fs.mkdirSync(llhttp);
for (const file of ['api.c', 'http.c', 'llhttp.c']) fs.copyFileSync(path.join(llhttpDir, file), path.join(llhttp, file));
fs.copyFileSync(path.join(llhttpInclude, 'llhttp.h'), path.join(llhttp, 'llhttp.h'));
// Its licence (MIT) as Debian records it, with the copyright holders.
fs.copyFileSync('/usr/share/doc/node-llhttp/copyright', path.join(llhttp, 'COPYRIGHT'));
// The licence and the notice travel with the package (npm packs them from the package's root).
for (const entry of ['LICENSE', 'NOTICE']) fs.copyFileSync(path.join(repo, entry), path.join(into, '..', entry));
