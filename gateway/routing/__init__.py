"""Who gets a new ticket (pure): the channel's rule over a snapshot of the agents."""
