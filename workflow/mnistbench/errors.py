"""The one exception type whose message reaches the user as a single line."""


class MnistbenchError(Exception):
    """A problem with the user's input (data, config, plugin) that deserves one clear line.

    The message names the thing and the problem; the CLI prints it as
    ``mnistbench <step>: error: <message>`` and exits non-zero, with no traceback.
    """
