"""The `kb` command: a delivery package beside web/, one module per command group (cli.main holds the app)."""
