"""The local test chain: an in-memory EVM behind JSON-RPC, and its compiled contract fixtures."""
