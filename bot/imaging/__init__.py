"""Pictures the bot draws (the drop picture, charts) and the photo rules it checks files against.

Plain functions of bytes and numbers: no Telegram, no database. Drawing is CPU work, so callers
run it off the event loop (`asyncio.to_thread`).
"""
