"""The merchant portal: merchants settle first, answer with evidence, manage their codes."""
