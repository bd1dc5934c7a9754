"""One module per ``kimage`` subcommand (see ``validator.cli``), and the exit codes they
return (declared here, so that a command never imports the CLI that imports it)."""

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
#: The IMAGE that names standard input (check, inspect: validator.commands._stdin).
STDIN = "-"
