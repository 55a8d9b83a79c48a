"""Reports of the unlearnable-image runs: demo, sweep, the paper suite and the results page over suite runs."""
