"""The ledger: every answered forecast recorded, matched with the price that followed, and scored, live."""
