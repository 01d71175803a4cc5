'use strict';
// A WebSocket chat client: lines typed are sent, messages received are printed.
//
//   node ws_client.js ws://127.0.0.1:PORT/chat [CA_FILE]
//
// Against the demo feed's chat room (python3 examples/feed/feed.py prints its PORT); run two of
// them. The stream reconnects by itself if the connection drops; lines typed meanwhile wait in its
// send buffer. End of input (Ctrl-D) leaves the room.
const readline = require('node:readline');
const { Stream } = require('tidewire');

const [url, caFile] = process.argv.slice(2);
const stream = new Stream(url, { tls_ca_file: caFile }); // ws:// and wss:// imply transport "ws"

stream.on('message', (event) => {
  const message = event.json();
  console.log(`#${message.from}: ${message.text}`);
});
stream.on('error', (error) => {
  console.error(`stream failed: ${error.message}`);
  process.exitCode = 1;
});
stream.on('close', () => console.log('left the room'));

readline
  .createInterface({ input: process.stdin })
  .on('line', (line) => stream.send(line))
  .on('close', () => setTimeout(() => stream.close(), 200)); // let the last answer arrive
