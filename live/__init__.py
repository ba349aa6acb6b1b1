"""Live rooms: scheduling, WHIP/WHEP media, the room channel and buying in the room."""
