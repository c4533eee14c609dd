"""The gettext catalogs, shipped with the package: `<lang>/LC_MESSAGES/messages.po` (see bot/i18n.py)."""
