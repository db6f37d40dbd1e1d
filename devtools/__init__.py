"""Stand-ins the offline demo and the tests share; a production deployment does not need them.

- :mod:`devtools.stripe_double`: a local Stripe API double (with :mod:`devtools.stripe_contract`,
  which checks every request against the pinned ``stripe`` package's parameter types);
- :mod:`devtools.chain.rig`: an in-memory EVM (eth-tester) behind a JSON-RPC endpoint, with the
  compiled test contracts in ``devtools/chain/fixtures``.

Nothing in ``bot``, ``cogs`` or ``economy`` imports this package, except the offline demo's scenes
(lazily, and they skip what is not installed).
"""
