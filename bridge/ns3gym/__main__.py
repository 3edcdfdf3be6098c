"""`python -m bridge.ns3gym ...` runs `qkdnet gym-sim ...` (what `Ns3GymEnv` launches)."""

from cli.ns3gym import main

main()
