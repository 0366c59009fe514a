"""Queue adapters: the dramatiq broker, the outbox relay and the actors that run side effects."""
