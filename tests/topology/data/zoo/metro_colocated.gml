graph [
  multigraph 1
  Network "MetroLike"
  Provenance "Hand-written in the layout of Topology Zoo Uninett.gml: co-located PoPs with identical coordinates, a repeated label, a parallel link"
  label "MetroLike"
  node [
    id 0
    label "NTNU Hovedbygget"
    Country "Norway"
    Longitude 10.39506
    Internal 1
    Latitude 63.43049
  ]
  node [
    id 1
    label "NTNU Realfagbygget"
    Country "Norway"
    Longitude 10.39506
    Internal 1
    Latitude 63.43049
  ]
  node [
    id 2
    label "UNINETT Teknobyen"
    Country "Norway"
    Longitude 10.39506
    Internal 1
    Latitude 63.43049
  ]
  node [
    id 3
    label "Hing Stjordal"
    Country "Norway"
    Longitude 10.95
    Internal 1
    Latitude 63.41667
  ]
  node [
    id 4
    label "UiO"
    Country "Norway"
    Longitude 10.74609
    Internal 1
    Latitude 59.91273
  ]
  node [
    id 5
    label "UiO"
    Country "Norway"
    Longitude 10.74609
    Internal 1
    Latitude 59.91273
  ]
  node [
    id 6
    label "UNIK Kjeller"
    Country "Norway"
    Longitude 11.03333
    Internal 1
    Latitude 59.98333
  ]
  node [
    id 7
    label "HiG Gjovik"
    Country "Norway"
    Longitude 10.69155
    Internal 1
    Latitude 60.79574
  ]
  edge [
    source 0
    target 1
    LinkLabel "1 Gbit/s"
  ]
  edge [
    source 0
    target 2
    LinkLabel "1 Gbit/s"
  ]
  edge [
    source 1
    target 2
    LinkLabel "1 Gbit/s"
  ]
  edge [
    source 1
    target 3
    LinkLabel "1 Gbit/s"
  ]
  edge [
    source 0
    target 7
    LinkLabel "1 Gbit/s"
  ]
  edge [
    source 7
    target 4
    LinkLabel "1 Gbit/s"
  ]
  edge [
    source 4
    target 5
    LinkLabel "1 Gbit/s"
  ]
  edge [
    source 4
    target 5
    LinkLabel "1 Gbit/s"
  ]
  edge [
    source 5
    target 6
    LinkLabel "1 Gbit/s"
  ]
  edge [
    source 6
    target 4
    LinkLabel "1 Gbit/s"
  ]
  edge [
    source 3
    target 2
    LinkLabel "1 Gbit/s"
  ]
]
