"""Importing balances from another bot (UnbelievaBoat, Red-DiscordBot) when a server switches.

`parse` reads the other bot's file into rows (member, amount) or problems with their place in
the file (pure functions, nothing else); `service` mints the rows through the ledger, one grant
per member under a key made of the file's sha256 and the member, so a file imports once.
"""
