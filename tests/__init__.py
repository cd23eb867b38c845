"""chatapp's tests: unit, store contract, UI, browser and packaging."""
