"""Agora: a Telegram bot that lets a group discuss a news article through polls."""
