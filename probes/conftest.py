import sys
from pathlib import Path

# Let probe files import the shared model helpers in this folder.
sys.path.insert(0, str(Path(__file__).parent))
