"""Demo scenes; each module has ORDER, TITLE and `async def play(t, gc)`."""
