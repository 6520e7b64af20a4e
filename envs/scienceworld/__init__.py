"""ScienceWorld (Wang et al., 2022): 30 elementary-science tasks on the real Scala simulator."""
