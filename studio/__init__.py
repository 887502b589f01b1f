"""Reel Studio: a desktop creator studio for short vertical videos."""

__version__ = "0.1.0"
APP_NAME = "Reel Studio"
APP_ID = "reel-studio"
