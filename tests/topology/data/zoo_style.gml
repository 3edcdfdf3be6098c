graph [
  DateObtained "hand-written for qkdnet tests"
  GeoLocation "Austria"
  GeoExtent "Country"
  Network "ZooStyleAustria"
  Provenance "Hand-written in the layout of the Internet Topology Zoo (topology-zoo.org) GML files; city coordinates as in Topology Zoo's ACOnet entries"
  Type "REN"
  Backbone 1
  multigraph 1
  label "ZooStyleAustria"
  node [
    id 0
    label "Vienna"
    Country "Austria"
    Longitude 16.37208
    Internal 1
    Latitude 48.20849
  ]
  node [
    id 1
    label "St. Polten"
    Country "Austria"
    Longitude 15.63333
    Internal 1
    Latitude 48.2
  ]
  node [
    id 2
    label "Linz"
    Country "Austria"
    Longitude 14.28611
    Internal 1
    Latitude 48.30639
  ]
  node [
    id 3
    label "Salzburg"
    Country "Austria"
    Longitude 13.04399
    Internal 1
    Latitude 47.79941
  ]
  node [
    id 4
    label "Innsbruck"
    Country "Austria"
    Longitude 11.39454
    Internal 1
    Latitude 47.26266
  ]
  node [
    id 5
    label "Graz"
    Country "Austria"
    Longitude 15.45
    Internal 1
    Latitude 47.06667
  ]
  node [
    id 6
    label "Klagenfurt"
    Country "Austria"
    Longitude 14.30528
    Internal 1
    Latitude 46.62472
  ]
  edge [
    source 0
    target 1
    LinkLabel "10 Gbps"
  ]
  edge [
    source 1
    target 2
    LinkLabel "10 Gbps"
  ]
  edge [
    source 2
    target 3
    LinkLabel "10 Gbps"
  ]
  edge [
    source 3
    target 4
    LinkLabel "10 Gbps"
  ]
  edge [
    source 0
    target 5
    LinkLabel "10 Gbps"
  ]
  edge [
    source 5
    target 6
    LinkLabel "2.5 Gbps"
  ]
  edge [
    source 6
    target 3
    LinkLabel "2.5 Gbps"
  ]
  edge [
    source 2
    target 5
    LinkLabel "1 Gbps"
  ]
]
