"""control.abft: the Adaptive BFT coordinator of qkdnet.

The key-management nodes agree, despite up to f Byzantine nodes, on what to trust: which links'
keys are accepted (a weighted trust vote per link), which nodes' reports count (adaptive weights),
and which relay paths to use (only trusted links; keys relayed as tagged threshold shares over
node-disjoint paths).

Modules, one job each:
  quorum      weighted quorums, the safety condition W + F_max < 2Q <= 2(W - F_max), the clamp
  pbft        weighted PBFT replica: pre-prepare/prepare/commit, checkpoints, view change
  messages    protocol messages, signed envelopes, wire encoding (codec: the byte layer)
  crypto      Ed25519 node keys (deterministic from the seed) and signature checking
  transport   Transport interface + deterministic in-memory transport (partial synchrony)
  weights     adaptive weight rule (penalty and recovery)
  ledger      the replicated application: agreed values, trust vote, errors, weights per step
  reports     per-step node reports and the batches consensus orders
  coordinator AbftCoordinator (the per-step facade) and BaselineCoordinator ("no ABFT")
  byzantine   Byzantine strategies (silence, crash, equivocation, false reports, delay,
              collusion, Byzantine primary)
  sharing     Shamir (t, n) over GF(2^8) and XOR n-of-n, numpy-vectorised
  relay       multipath relay with HMAC-tagged shares; single-path baseline

Fault assumption (count-based): at most f of n nodes are Byzantine (f defaults to (n - 1) // 3),
with nothing assumed about which nodes or their weights. Why: weights are adaptive and driven by
behaviour the adversary influences, so an assumption on Byzantine *weight* would be circular; with
a count bound the worst case is F_max = the sum of the f largest weights, whoever holds them.
Quorum (consensus) weights must keep 3 F_max < W - the condition W + F_max < 2Q <= 2(W - F_max)
with Q = W - F_max - and every update of them is checked and clamped or refused, reason logged.
Prepare/commit quorums are weighted; view-change and checkpoint certificates are count-based
(n - f nodes), which meet every weighted quorum in an honest node, so changing weights never
endangers a view change.

Two weight vectors: trust weights follow the adaptive rule freely and weigh the per-link vote
V = sum_i w_i v_i and the agreed values; consensus weights follow the trust weights as far as the
safety condition allows. They differ only when the rule would take away more weight than the
count-based bound permits (less than one node's weight in total when n = 3f + 1).

Recovery rule: multiplicative penalty w <- max(floor, w (1 - alpha |err|)); after
`probation_steps` consecutive clean reported steps, w <- w + recovery_rate (1 - w). Fast
punishment, slow conditional forgiveness (AIMD-like): on-off attackers that misbehave more often
than the probation length never regain weight, while a repaired node returns to full weight on
its own. Details in weights.py.
"""

from control.abft.byzantine import (
    Collusion,
    Crash,
    Delay,
    Equivocate,
    FalseReport,
    InvalidProposal,
    Silent,
    Strategy,
    make_strategy,
)
from control.abft.coordinator import (
    AbftConfig,
    AbftCoordinator,
    BaselineCoordinator,
    QuantityConfig,
    StepDecision,
    StepStats,
    honest_reports,
)
from control.abft.errors import (
    AbftError,
    ConfigurationError,
    KeyRelayError,
    MessageDecodeError,
    SharingError,
    UnsafeWeightsError,
)
from control.abft.ledger import MeasuredInputs, StepOutcome
from control.abft.pbft import Application, PbftParams, Replica
from control.abft.quorum import (
    QuorumConfig,
    SafetyReport,
    check_safety,
    clamp_update,
    default_fault_bound,
    wheat_weights,
)
from control.abft.relay import (
    Drop,
    MultipathRelay,
    RelayBehaviour,
    RelayResult,
    Tamper,
    disjoint_paths,
    single_path_relay,
)
from control.abft.reports import NodeReport
from control.abft.sharing import shamir_combine, shamir_split, xor_combine, xor_split
from control.abft.transport import (
    Endpoint,
    InMemoryTransport,
    PartialSynchrony,
    Transport,
    TransportStats,
)
from control.abft.weights import WeightRule

__all__ = [
    "AbftConfig",
    "QuantityConfig",
    "AbftCoordinator",
    "AbftError",
    "Application",
    "BaselineCoordinator",
    "Collusion",
    "ConfigurationError",
    "Crash",
    "Delay",
    "Drop",
    "Endpoint",
    "Equivocate",
    "FalseReport",
    "InMemoryTransport",
    "InvalidProposal",
    "KeyRelayError",
    "MeasuredInputs",
    "MessageDecodeError",
    "MultipathRelay",
    "NodeReport",
    "PartialSynchrony",
    "PbftParams",
    "QuorumConfig",
    "RelayBehaviour",
    "RelayResult",
    "Replica",
    "SafetyReport",
    "SharingError",
    "Silent",
    "StepDecision",
    "StepOutcome",
    "StepStats",
    "Strategy",
    "Tamper",
    "Transport",
    "TransportStats",
    "UnsafeWeightsError",
    "WeightRule",
    "check_safety",
    "clamp_update",
    "default_fault_bound",
    "disjoint_paths",
    "honest_reports",
    "make_strategy",
    "shamir_combine",
    "shamir_split",
    "single_path_relay",
    "wheat_weights",
    "xor_combine",
    "xor_split",
]
