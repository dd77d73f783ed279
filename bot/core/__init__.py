"""The core: what every other room uses and what depends on nothing of Agora's but storage.

Settings, translations and locale-aware formatting, a chat's clock and language, the
command and callback registries, strict argument parsing, logging that keeps secrets out,
packaged resources, and the articles themselves (their files, validated, and the library
they make up). Imports from here go to `storage` and the libraries only, never to another
room of `bot`.
"""
