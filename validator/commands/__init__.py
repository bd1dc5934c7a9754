"""One module per ``kimage`` subcommand (see ``validator.cli``)."""
