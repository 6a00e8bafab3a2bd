"""Turn a scan result into output; reporters only read findings, they never detect."""
