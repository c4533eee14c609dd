"""The sandbox: tuanbot tried in a browser, with no Telegram account.

`python -m bot sandbox` runs three things in one process: a local server that speaks the Bot API
as Telegram does (`telegram.py`, also what the end-to-end tests talk to), the bot itself against
it on its own SQLite file, and a web page that plays the chats (`web.py`, `static/`), with a
guided tour of a day (`tour.py`). Nothing in it ever talks to Telegram.
"""
