"""meshdrill probes: hostname sampling, split statistics, failover timing."""
