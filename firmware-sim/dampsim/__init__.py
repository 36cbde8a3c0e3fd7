"""dampsim: a simulated fleet of damp sensors in London social homes, with the ground truth.

It imports nothing from the Dampwatch service and speaks only MQTT, like real firmware. The
public face:

- `SimOptions`: what to simulate and how to run it;
- `run_simulation(options, stop=...) -> SimReport`: publish history, then live (or backfill,
  or fixed-rate load) to a broker;
- `generate_dataset(options) -> Dataset` and `iter_datasets(...)`: the same fleet in-process,
  with hourly outdoor weather, the provisioning export and the ground truth;
- `provisioning_export(options) -> dict`: what `dampwatch provision` loads;
- `load_sample(path) -> Dataset` and `save_sample(dataset, path)`: the committed sample.
"""

from dampsim.dataset import Dataset, generate_dataset, iter_datasets
from dampsim.export import provisioning_export
from dampsim.ground_truth import Truth
from dampsim.options import BOROUGH_CODES, FAULT_KINDS, PAYLOAD_FORMATS, SimOptions
from dampsim.simulation import SimReport, run_simulation

__all__ = [
    "BOROUGH_CODES",
    "FAULT_KINDS",
    "PAYLOAD_FORMATS",
    "Dataset",
    "SimOptions",
    "SimReport",
    "Truth",
    "generate_dataset",
    "iter_datasets",
    "provisioning_export",
    "run_simulation",
]
