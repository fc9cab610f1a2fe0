"""The twin's core: memory, style and decisions, free of any channel library."""

import os

# litellm downloads its model cost map when imported unless this is set; the twin must
# never touch the network on its own, so this holds for every import below twin_core.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
