"""The trainer's ground floor, torch-free where it can be: configs, options, data, simulated series, records."""
