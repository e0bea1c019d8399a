"""The check-in desk: records visits and guest visits, and issues or shows again a credential."""
