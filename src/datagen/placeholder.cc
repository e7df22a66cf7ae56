// Placeholder until the datagen module lands.
