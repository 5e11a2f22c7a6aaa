"""The worker: one long-running process (``rewardledger worker``, or a thread of ``serve``) that
runs every due step of every tenant on the step's own schedule.

Owns: the registry of steps (``steps``), the claims that let several workers share one
database without running a step twice (``port``, stored by ``storage.worker_runs``) and the
loop (``runner``); ``relays`` adds the steps that carry the event feed to its sinks.
Protects: a step of a tenant runs once per due time; a worker stopped or killed mid-step
loses nothing.
"""

from rewardledger.worker import relays as relays  # registers the relay steps
from rewardledger.worker.port import STORE, Claimed, Lease, WorkerRunStore
from rewardledger.worker.runner import Schedule, StepRun, Worker, next_due
from rewardledger.worker.steps import EVERY_TENANT, STEPS, Step, register

__all__ = [
    "EVERY_TENANT",
    "STEPS",
    "STORE",
    "Claimed",
    "Lease",
    "Schedule",
    "Step",
    "StepRun",
    "Worker",
    "WorkerRunStore",
    "next_due",
    "register",
]
