"""Sample data: realistic, noisy Vietnamese multi-source extracts with known truth (issue 3).

Python API::

    from c360.sample import GeneratorConfig, generate_landing_zone, load_noise_config
    from c360.sample import load_noise_profile  # noise profiles: .generator_config(...)

CLI: ``add_generate_command(subparsers)`` registers ``c360 generate``.
"""

from c360.sample.cli import add_generate_command
from c360.sample.config import (
    DEFAULT_NOISE_CONFIG,
    GeneratorConfig,
    GeneratorInputError,
    NoiseConfig,
    PopulationConfig,
    load_noise_config,
)
from c360.sample.generator import TRUTH_FILES, GenerationSummary, generate_landing_zone
from c360.sample.noise import NOISE_TARGETS, PROFILE_TARGETS, SOURCE_FIELDS
from c360.sample.profiles import NoiseProfile, available_profiles, load_noise_profile

__all__ = [
    "DEFAULT_NOISE_CONFIG",
    "NOISE_TARGETS",
    "PROFILE_TARGETS",
    "SOURCE_FIELDS",
    "TRUTH_FILES",
    "GenerationSummary",
    "GeneratorConfig",
    "GeneratorInputError",
    "NoiseConfig",
    "NoiseProfile",
    "PopulationConfig",
    "add_generate_command",
    "available_profiles",
    "generate_landing_zone",
    "load_noise_config",
    "load_noise_profile",
]
