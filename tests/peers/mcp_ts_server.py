"""Starts tests/conformance/mcp/ts_server.mjs (an MCP server made with the official TypeScript SDK,
installed there by scripts/install-deps.sh) with the arguments given: the test harness starts
peers as Python scripts. Node inherits stdin and stdout, so it announces its port and exits on
stdin EOF itself."""

import os
import shutil
import sys
from pathlib import Path

SERVER = Path(__file__).resolve().parents[1] / "conformance" / "mcp" / "ts_server.mjs"
node = shutil.which("node") or "node"
os.execv(node, [node, str(SERVER), *sys.argv[1:]])
