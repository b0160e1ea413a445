"""What a training run shows on the terminal, and what only goes to its log file.

mmengine's runner writes, on every start, the system environment, the whole
config, the hook order, one ``paramwise_options`` line per parameter tensor
(605 for the toy HRDA model) and two deprecation warnings that its own
checkpoint hook triggers (``FileClient``, ``HardDiskBackend``) whatever the
config says. The optimiser constructor logs one summary line instead of the
per-parameter lines; the log file in the work dir keeps the environment,
config and hook order, and the terminal gets one line pointing at the files.
"""
import logging
from typing import List

# messages of mmengine's own making that a user cannot act on
MMENGINE_NOISE = (
    '"FileClient" will be deprecated in future',
    '"HardDiskBackend" is the alias of "LocalBackend"',
)


def drop_mmengine_noise(record: logging.LogRecord) -> bool:
    """Logging filter: ``False`` for the deprecation warnings of
    :data:`MMENGINE_NOISE`."""
    message = record.getMessage()
    return not any(text in message for text in MMENGINE_NOISE)


def drop_paramwise_options(record: logging.LogRecord) -> bool:
    """Logging filter: ``False`` for mmengine's per-parameter
    ``paramwise_options -- name:key=value`` lines."""
    return not record.getMessage().startswith('paramwise_options -- ')


def console_handlers(logger: logging.Logger) -> List[logging.Handler]:
    """The handlers of ``logger`` that write to a terminal stream (not files)."""
    return [
        h for h in logger.handlers
        if isinstance(h, logging.StreamHandler)
        and not isinstance(h, logging.FileHandler)
    ]


# the starts of the runner's records that go to the log file only
FILE_ONLY_RECORDS = (
    'Config:\n',
    'Hooks will be executed in the following order',
    '\n' + '-' * 60 + '\nSystem environment:',
    'Distributed training is not used, all SyncBatchNorm',
)


def drop_file_only_records(record: logging.LogRecord) -> bool:
    """Console filter: ``False`` for the environment, config and hook-order
    records of :data:`FILE_ONLY_RECORDS`."""
    return not record.getMessage().startswith(FILE_ONLY_RECORDS)
