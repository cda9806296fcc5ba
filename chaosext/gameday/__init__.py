"""Game days: schedule files, runner, scheduler, CronJob manifests."""
