"""Linux's own vocabulary, below every layer: errno exceptions, ABI structs,
credentials and capabilities, wait queues. Imports nothing of pylinuxabi."""
