"""The one error every model loader raises: a model file that is missing, corrupt or unusable."""


class ModelFileError(RuntimeError):
    """A model file is missing, corrupt, or cannot be turned into a usable model."""
