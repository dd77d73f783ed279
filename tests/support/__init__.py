"""What the tests stand on: `botapi`, a local Bot API server that answers as Telegram does;
`harness`, the real bot started against it and read back from its database; `articles`,
article files made to measure; `fuzz`, the fuzzer's world, strategies and actions."""
