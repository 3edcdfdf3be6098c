"""`python -m bridge.ns3gym ...` runs `qkdnet gym-sim ...` (what `Ns3GymEnv` launches)."""

from bridge.ns3gym.cli import main

main()
