"""`imageprivacy dpf train|evaluate`: the Deep Poisoning Functions verbs."""
