"""The verbs of the unlearnable-image methods (ConfounderGAN and its baselines), one module a verb."""
from imageprivacy.cli.unlearnable import (bench_command, demo_command, evaluate_command, fit_command, protect_command,
                                          serve_command, suite_command, sweep_command, train_command)

# In the order `imageprivacy --help` lists them: the main job, fitting, protecting, then attacking.
VERBS = (demo_command, train_command, fit_command, protect_command, serve_command, evaluate_command, sweep_command,
         suite_command, bench_command)
