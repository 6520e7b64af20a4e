"""Multi-agent text games: PettingZoo games and a negotiation game with text moves."""
